-- statement: the parameters parsed, nothing done
select pg_current_xact_id(), cardinality($1::text[]) + cardinality($2::text[]) + cardinality($3::text[]) + jsonb_array_length($4::jsonb) + jsonb_array_length($5::jsonb)
  + cardinality($6::int[]) + cardinality($7::text[]) + cardinality($8::text[]) + cardinality($9::text[]) + cardinality($10::int[]) + cardinality($11::boolean[])
  + cardinality($12::int[]) + cardinality($13::text[]) + jsonb_array_length($14::jsonb) + cardinality($15::text[]) + cardinality($16::text[]) + cardinality($17::text[]) as n
