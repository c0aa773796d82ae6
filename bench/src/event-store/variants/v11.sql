create function append_commands_v11(
      c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
      s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
      e_entry int[], e_type text[], e_data jsonb,
      k_organization text[], k_subject text[], k_wrapped text[],
      out outcome json, out transaction_id xid8, out occurred_at timestamptz
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
      codes text[];
      details text[];
      versions bigint[];
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
      keys_stored bigint;
    begin
      -- New data subjects' keys (decision 0009), proposed by the caller, who sealed the batch's
      -- personal data under them: stored with the append, in its transaction. Where a subject has
      -- a key already (another writer's, or one this caller no longer had cached, or erased), the
      -- batch was sealed under a key that is not the subject's: nothing is appended, and the
      -- subjects' stored keys go back (null once erased) for the caller to seal again and resend.
      if cardinality(k_subject) > 0 then
        insert into data_subject_keys (organization_id, subject_id, wrapped_key)
        select k.organization_id, k.subject_id, decode(k.wrapped_key, 'base64')
        from unnest(k_organization, k_subject, k_wrapped) as k(organization_id, subject_id, wrapped_key)
        on conflict do nothing;
        get diagnostics keys_stored = row_count;
        if keys_stored < cardinality(k_subject) then
          -- A statement of its own: its snapshot sees the key of a writer the insert waited for.
          select json_build_object('stored_keys', json_agg(json_build_object('organization_id', k.organization_id, 'subject_id', k.subject_id,
                                                                             'wrapped_key', encode(k.wrapped_key, 'base64'))))
          into outcome
          from unnest(k_organization, k_subject) as a(organization_id, subject_id)
          join data_subject_keys k using (organization_id, subject_id);
          transaction_id := pg_current_xact_id();
          occurred_at := now();
          return;
        end if;
      end if;

      -- One statement for both lookups. Streams are locked in id order, so that two batches over
      -- the same streams take them in the same order. Command ids are looked up pair by pair.
      select l.ids, l.ver, l.org, l.typ, l.closed, h.handled
      into ids, ver, org, typ, closed, handled
      from (
        -- One aggregation: each row goes to every array in turn, so they stay aligned without a
        -- sort each (the order among streams matters nowhere but in locking).
        select coalesce(array_agg(stream_id), '{}') as ids,
               coalesce(array_agg(version), '{}') as ver,
               coalesce(array_agg(organization_id), '{}') as org,
               coalesce(array_agg(stream_type), '{}') as typ,
               coalesce(array_agg(closed_at is not null), '{}') as closed
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
        outcome := json_build_object('codes', codes, 'details', details);
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
      select json_build_object('codes', codes, 'details', details, 'versions', versions::text[],
                               'positions', array_agg(i.global_position::text order by i.global_position),
                               'event_ids', array_agg(i.event_id order by i.global_position))
      into outcome
      from inserted i;
    end;
    $$;