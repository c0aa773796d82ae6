import type { Migration } from "@sluice/database";

export const appendCommands: Migration = {
  id: "event-store/008-append-commands",
  sql: /* sql */ `
    -- Group commit's one statement, with typed arrays instead of one JSON document: a batch of
    -- commands, each judged on its own and in order as if appended alone (a later command sees
    -- the versions an earlier one left), each refused one (SLDUP, SL403, SLTYP, SLCLS, SL409)
    -- writing nothing. The checks run over values locked up front, in plain arrays; the writes are
    -- three set-based inserts. Replaces append_batch (002, 004, 007), which built and parsed JSON
    -- per command and stream: about half the cost of a single-event append on a server.
    --   commands, 1..n:  c_organization, c_command, c_result_type; c_results and c_metadata are
    --                    JSON arrays, element i-1 for command i.
    --   streams, 1..m:   s_command (its command, ascending), s_stream (ascending within a
    --                    command), s_type, s_expected ('any' | 'no_stream' | 'stream_exists' |
    --                    '<n>'), s_count (its events), s_close.
    --   events, 1..k:    e_entry (its stream, an index into s_*), e_type; e_data a JSON array;
    --                    in the order each command gave them, commands in order.
    -- Returns one row: per command a refusal code and detail (null when accepted); per stream the
    -- version it is left at (null for a refused command); per accepted event, in order, its
    -- global position and id; the transaction and the time.
    create function append_commands(
      c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
      s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
      e_entry int[], e_type text[], e_data jsonb,
      out codes text[], out details text[], out versions bigint[],
      out positions bigint[], out event_ids uuid[], out transaction_id xid8, out occurred_at timestamptz
    )
    language plpgsql
    -- Its plans are made once per connection and kept, often while the tables are still small,
    -- where a scan of a whole table or a hash join looks cheapest; kept, such a plan makes every
    -- append dearer with every command ever recorded. Index lookups are right at any size.
    set enable_seqscan = off
    set enable_hashjoin = off
    set enable_mergejoin = off
    as $$
    declare
      -- Every stream the batch names as stored (locked), then as the accepted commands leave it.
      ids text[];
      ver bigint[];
      org text[];
      typ text[];
      closed boolean[];
      handled text[];
      accepted boolean[];
      bases bigint[];
      slot int[];
      touched boolean[];
      known int;
      n int := coalesce(array_length(c_command, 1), 0);
      j int := 1;
      first_stream int;
      k int;
      current_version bigint;
      code text;
      detail text;
    begin
      -- One statement for both lookups. Streams are locked in id order, so that two batches over
      -- the same streams take them in the same order. Command ids are looked up pair by pair.
      select l.ids, l.ver, l.org, l.typ, l.closed, h.handled
      into ids, ver, org, typ, closed, handled
      from (
        select coalesce(array_agg(stream_id order by stream_id), '{}') as ids,
               coalesce(array_agg(version order by stream_id), '{}') as ver,
               coalesce(array_agg(organization_id order by stream_id), '{}') as org,
               coalesce(array_agg(stream_type order by stream_id), '{}') as typ,
               coalesce(array_agg(closed_at is not null order by stream_id), '{}') as closed
        from (select * from event_streams where stream_id = any(s_stream) order by stream_id for update) locked
      ) l, (
        select coalesce(array_agg(r.organization_id || '/' || r.command_id), '{}') as handled
        from unnest(c_organization, c_command) as batch (organization_id, command_id)
        join command_results r using (organization_id, command_id)
      ) h;

      codes := array_fill(null::text, array[n]);
      details := codes;
      accepted := array_fill(false, array[n]);
      versions := array_fill(null::bigint, array[coalesce(array_length(s_stream, 1), 0)]);
      bases := versions;
      slot := array_fill(null::int, array[coalesce(array_length(s_stream, 1), 0)]);
      touched := array_fill(false, array[coalesce(array_length(ids, 1), 0) + coalesce(array_length(s_stream, 1), 0)]);

      for i in 1 .. n loop
        code := null;
        first_stream := j;
        known := coalesce(array_length(ids, 1), 0);
        if (c_organization[i] || '/' || c_command[i]) = any(handled) then
          code := 'SLDUP';
          detail := c_command[i];
        end if;
        while j <= coalesce(array_length(s_command, 1), 0) and s_command[j] = i loop
          if code is null then
            k := array_position(ids, s_stream[j]);
            if k is null then
              -- Not stored yet: it starts empty, in this command's organization, of its type.
              ids := ids || s_stream[j];
              ver := ver || 0::bigint;
              org := org || c_organization[i];
              typ := typ || s_type[j];
              closed := closed || false;
              k := array_length(ids, 1);
            end if;
            slot[j] := k;
            current_version := ver[k];
            if org[k] <> c_organization[i] then
              code := 'SL403';
              detail := s_stream[j];
            -- An id of one kind of aggregate used for another: its events would fold into nonsense.
            elsif typ[k] <> s_type[j] then
              code := 'SLTYP';
              detail := json_build_object('streamId', s_stream[j], 'recorded', typ[k], 'requested', s_type[j])::text;
            -- Closed: no more events. An empty append (a version guard, or closing again) still goes.
            elsif closed[k] and s_count[j] > 0 then
              code := 'SLCLS';
              detail := s_stream[j];
            elsif not (case s_expected[j]
                when 'any' then true
                when 'no_stream' then current_version = 0
                when 'stream_exists' then current_version > 0
                else current_version = s_expected[j]::bigint
              end) then
              code := 'SL409';
              detail := json_build_object('streamId', s_stream[j], 'expected', s_expected[j], 'actual', current_version::text)::text;
            end if;
            bases[j] := current_version;
          end if;
          j := j + 1;
        end loop;
        if code is null then
          -- Accepted: its streams move on, and are written.
          for x in first_stream .. j - 1 loop
            ver[slot[x]] := bases[x] + s_count[x];
            closed[slot[x]] := closed[slot[x]] or s_close[x];
            touched[slot[x]] := true;
            versions[x] := ver[slot[x]];
          end loop;
          -- The same command twice in one batch: the second is a retry of the first.
          handled := handled || (c_organization[i] || '/' || c_command[i]);
          accepted[i] := true;
        else
          codes[i] := code;
          details[i] := detail;
          -- Streams it named first are new again for a later command of the batch.
          ids := ids[1:known];
          ver := ver[1:known];
          org := org[1:known];
          typ := typ[1:known];
          closed := closed[1:known];
        end if;
      end loop;

      transaction_id := pg_current_xact_id();
      occurred_at := now();
      if not (true = any(accepted)) then
        return;
      end if;

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

    drop function append_batch(jsonb);
  `,
};
