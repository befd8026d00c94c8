-- Streamed responses in the invocation ledger (issue 14). An HTTP
-- invocation's row records the bytes of its response body; for a streamed
-- body (SSE, LLM output) the row is written when the stream ends, so
-- `response_bytes` counts everything handed to the client and `duration_ms`
-- runs to the last byte (for a buffered body it runs to the response).
-- `streamed` tells the two apart. Null for other triggers and for failures
-- answered by Hangar's own error body.
alter table hangar.invocations
  add column response_bytes bigint,
  add column streamed boolean not null default false;
