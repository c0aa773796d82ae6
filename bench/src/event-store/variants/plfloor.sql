create function append_commands_plfloor(
      c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
      s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
      e_entry int[], e_type text[], e_data jsonb,
      k_organization text[], k_subject text[], k_wrapped text[],
      out codes text[], out details text[], out versions bigint[],
      out positions bigint[], out event_ids uuid[], out transaction_id xid8, out occurred_at timestamptz,
      out stored_keys jsonb
    )
    language plpgsql
    -- One plan per statement and connection, made once and reused: the generic plan. Left to
    -- choose, PL/pgSQL planned every statement again on every call (a custom plan for the batch's
    -- arrays, which it kept preferring because its estimate for them is smaller), and that
    -- planning was half of a single append's server time.
    set plan_cache_mode = force_generic_plan
    -- Made once, often while the tables are still small, where a scan of a whole table or a hash
    -- join looks cheapest; kept, such a plan makes every append dearer with every command ever
    -- recorded. Index lookups are right at any size; plain index scans read the streams in id
    -- order, so they are locked in that order without a sort.
    set enable_seqscan = off
    set enable_bitmapscan = off
    set enable_hashjoin = off
    set enable_mergejoin = off
    as $$
declare
  ids text[]; ver bigint[]; org text[]; typ text[]; closed boolean[]; accepted boolean[]; bases bigint[]; touched boolean[];
begin
  select array_agg(s.stream), array_agg(s.expected::bigint + s.count), array_agg(c_organization[s.command]), array_agg(s.type),
         array_agg(s.close), array_agg(s.expected::bigint), array_agg(true), array_agg(s.expected::bigint + s.count)
  into ids, ver, org, typ, closed, bases, touched, versions
  from unnest(s_command, s_stream, s_type, s_expected, s_count, s_close) as s(command, stream, type, expected, count, close);
  accepted := array_fill(true, array[cardinality(c_command)]);
  codes := array_fill(null::text, array[cardinality(c_command)]);
  details := codes;
  transaction_id := pg_current_xact_id();
  occurred_at := now();
      -- The writes as one statement: each insert reads only the arguments, not another's rows.
      with results as (
        insert into command_results (organization_id, command_id, result_type, result)
        select c_organization[i], c_command[i], c_result_type[i], c_results->(i - 1)
        from generate_subscripts(c_command, 1) i
        where accepted[i]
      ), streams as (
        -- Once per stream, as the batch leaves it: commands of one batch often name the same one
        -- (a project each order guards), and an insert may not update a row twice.
        insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
        select ids[x], org[x], typ[x], ver[x], case when closed[x] then now() end
        from generate_subscripts(ids, 1) x
        where touched[x]
        order by ids[x]
        on conflict (stream_id) do update
          set version = excluded.version, closed_at = coalesce(event_streams.closed_at, excluded.closed_at)
      ), inserted as (
        insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
        select c_organization[s_command[e.entry]], s_stream[e.entry], s_type[e.entry],
               bases[e.entry] + row_number() over (partition by e.entry order by e.n),
               e.type, e_data->(e.n::int - 1), c_metadata->(s_command[e.entry] - 1)
        from unnest(e_entry, e_type) with ordinality as e(entry, type, n)
        where accepted[s_command[e.entry]]
        order by e.n
        returning global_position, event_id
      )
      select array_agg(i.global_position order by i.global_position), array_agg(i.event_id order by i.global_position)
      into positions, event_ids
      from inserted i;
end;
$$;
