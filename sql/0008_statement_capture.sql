-- Table events captured per statement (issue 20: a 10,000-row INSERT into a
-- watched table took ~40x as long as without the trigger).
--
-- hangar.capture_event() ran once per row: a PL/pgSQL call, a catalog lookup
-- of the primary key and a NOTIFY for every row. hangar.capture_events() runs
-- once per statement over its transition tables (REFERENCING ... TABLE), looks
-- the key up once and inserts every row's event in one INSERT ... SELECT.
-- Still one event per row, with the same row_key text, and still SECURITY
-- DEFINER with a pinned search_path, so a restricted role writing the table
-- (guest SQL) records its events.
--
-- Ordering holds as before: an AFTER STATEMENT trigger runs after the
-- statement took every changed row's lock (kept to commit), so the ids of two
-- events of one row key still follow commit order; one statement changes a
-- row at most once.
--
-- Postgres allows transition tables only on single-event triggers, so a
-- function has up to three triggers per table: `<name>` (insert), `<name>_upd`
-- and `<name>_del` (see host/triggers/install.ts, triggerNames()).

create function hangar.capture_events() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  fn text := TG_ARGV[0];
  keys text[];
begin
  select array_agg(a.attname::text order by k.ord) into keys
    from pg_index i
    cross join lateral unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
   where i.indrelid = TG_RELID and i.indisprimary;
  if TG_OP = 'INSERT' then
    insert into hangar.events (function_name, schema_name, table_name, op, row_key, old, new)
    select fn, TG_TABLE_SCHEMA, TG_TABLE_NAME, 'insert',
           (select jsonb_agg(r.j -> u.k order by u.o) from unnest(keys) with ordinality as u(k, o))::text, null, r.j
      from (select to_jsonb(n.*) as j from hangar_new n) r;
  elsif TG_OP = 'UPDATE' then
    -- Old and new images are stored pairwise, in the same order, in the two
    -- transition tables: pair them by position (a key may itself change).
    insert into hangar.events (function_name, schema_name, table_name, op, row_key, old, new)
    select fn, TG_TABLE_SCHEMA, TG_TABLE_NAME, 'update',
           (select jsonb_agg(b.j -> u.k order by u.o) from unnest(keys) with ordinality as u(k, o))::text, a.j, b.j
      from (select to_jsonb(o.*) as j, row_number() over () as pos from hangar_old o) a
      join (select to_jsonb(n.*) as j, row_number() over () as pos from hangar_new n) b using (pos)
     order by pos;
  else
    insert into hangar.events (function_name, schema_name, table_name, op, row_key, old, new)
    select fn, TG_TABLE_SCHEMA, TG_TABLE_NAME, 'delete',
           (select jsonb_agg(r.j -> u.k order by u.o) from unnest(keys) with ordinality as u(k, o))::text, r.j, null
      from (select to_jsonb(o.*) as j from hangar_old o) r;
  end if;
  if found then
    perform pg_notify('hangar_events', fn);
  end if;
  return null;
end
$$;

-- Move the row triggers of functions deployed before this migration to the
-- statement triggers (names as host/triggers/install.ts makes them). A table
-- that cannot be changed now keeps its row trigger, which still works
-- (hangar.capture_event stays) until the function's next deploy replaces it.
do $$
declare
  t record;
  base text;
  op text;
  tg record;
begin
  for t in select et.function_name, et.schema_name, et.table_name, et.trigger_name, et.ops, c.oid as rel
             from hangar.event_triggers et
             join pg_catalog.pg_namespace n on n.nspname = et.schema_name
             join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = et.table_name
  loop
    base := 'hangar_evt_' || t.function_name;
    if octet_length(base) > 59 then
      base := 'hangar_evt_' || left(t.function_name, 36) || '_' || left(encode(sha256(convert_to(t.function_name, 'UTF8')), 'hex'), 10);
    end if;
    begin
      for tg in select tgname from pg_catalog.pg_trigger
                 where tgrelid = t.rel and not tgisinternal and tgfoid = 'hangar.capture_event()'::regprocedure
                   and tgname in (t.trigger_name, base, base || '_upd', base || '_del')
      loop
        execute format('drop trigger %I on %I.%I', tg.tgname, t.schema_name, t.table_name);
      end loop;
      foreach op in array t.ops loop
        execute format(
          'create or replace trigger %I after %s on %I.%I referencing %s for each statement execute function hangar.capture_events(%L)',
          case op when 'insert' then base when 'update' then base || '_upd' else base || '_del' end,
          upper(op), t.schema_name, t.table_name,
          case op when 'insert' then 'new table as hangar_new' when 'update' then 'old table as hangar_old new table as hangar_new' else 'old table as hangar_old' end,
          t.function_name);
      end loop;
      update hangar.event_triggers set trigger_name = base, updated_at = now()
       where function_name = t.function_name and schema_name = t.schema_name and table_name = t.table_name;
    exception when others then
      raise warning 'hangar: kept the row-level event trigger of function % on %.%: %', t.function_name, t.schema_name, t.table_name, sqlerrm;
    end;
  end loop;
end
$$;
