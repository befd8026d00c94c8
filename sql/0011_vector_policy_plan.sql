-- Collection row policies the planner can see through (issue 16). The
-- policy of 0006 compared hangar.vector_table with the table's name: a
-- Var-free qual, which RLS evaluates at the table, so the planner gave it
-- the default equality selectivity (0.5%) and, expecting a handful of rows,
-- chose a sequential scan and a sort over the HNSW index for every search
-- as a guest role (measured: 16x slower than direct pgvector at 20,000
-- rows). Comparing `tableoid` (one distinct value: selectivity 1) with the
-- table's own oid, or null when the setting names another table, shows the
-- same rows and keeps the index scan. WITH CHECK is unchanged.
do $$
declare
  t text;
begin
  for t in select table_name from hangar.vector_collections loop
    execute format(
      'alter policy scoped on hangar_vectors.%I using (tableoid = case when pg_catalog.current_setting(''hangar.vector_table'', true) = %L then %L::regclass::oid end)',
      t, t, format('hangar_vectors.%I', t));
  end loop;
end $$;
