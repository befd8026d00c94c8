-- A version's bundle and source map are compressed with lz4 where the
-- server has it (issue 17): a 500 KB bundle's deploy stored its row in
-- 19-35 ms with pglz, the default, against 8-14 ms with lz4, and reads
-- decompress faster too. Rows written before keep pglz until rewritten.
-- Servers built without lz4 (and the embedded database, if it has none)
-- keep pglz: the migration says so and goes on.
do $$
begin
  alter table hangar.versions
    alter column bundle set compression lz4,
    alter column source_map set compression lz4;
exception when feature_not_supported or invalid_parameter_value then
  raise notice 'hangar: this server has no lz4 compression; versions stay compressed with pglz';
end $$;
