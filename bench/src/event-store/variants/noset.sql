create function append_commands_noset(
      c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
      s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
      e_entry int[], e_type text[], e_data jsonb,
      k_organization text[], k_subject text[], k_wrapped text[],
      out codes text[], out details text[], out versions bigint[],
      out positions bigint[], out event_ids uuid[], out transaction_id xid8, out occurred_at timestamptz,
      out stored_keys jsonb
    )
    language plpgsql




    
    as $$
    declare

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





      if cardinality(k_subject) > 0 then
        insert into data_subject_keys (organization_id, subject_id, wrapped_key)
        select k.organization_id, k.subject_id, decode(k.wrapped_key, 'base64')
        from unnest(k_organization, k_subject, k_wrapped) as k(organization_id, subject_id, wrapped_key)
        on conflict do nothing;
        get diagnostics keys_stored = row_count;
        if keys_stored < cardinality(k_subject) then

          select jsonb_agg(jsonb_build_object('organization_id', k.organization_id, 'subject_id', k.subject_id,
                                              'wrapped_key', encode(k.wrapped_key, 'base64')))
          into stored_keys
          from unnest(k_organization, k_subject) as a(organization_id, subject_id)
          join data_subject_keys k using (organization_id, subject_id);
          codes := array_fill(null::text, array[coalesce(array_length(c_command, 1), 0)]);
          details := codes;
          transaction_id := pg_current_xact_id();
          occurred_at := now();
          return;
        end if;
      end if;


      select l.ids, l.ver, l.org, l.typ, l.closed, h.handled
      into ids, ver, org, typ, closed, handled
      from (


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

            elsif typ[k] <> s_type[j] then
              code := 'SLTYP';
              detail := json_build_object('streamId', s_stream[j], 'recorded', typ[k], 'requested', s_type[j])::text;

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

          for x in first_stream .. j - 1 loop
            ver[slot[x]] := bases[x] + s_count[x];
            closed[slot[x]] := closed[slot[x]] or s_close[x];
            touched[slot[x]] := true;
            versions[x] := ver[slot[x]];
          end loop;

          handled := handled || (c_organization[i] || '/' || c_command[i]);
          accepted[i] := true;
        else
          codes[i] := code;
          details[i] := detail;

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

      with results as (
        insert into command_results (organization_id, command_id, result_type, result)
        select c_organization[i], c_command[i], c_result_type[i], c_results->(i - 1)
        from generate_subscripts(c_command, 1) i
        where accepted[i]
      ), streams as (


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