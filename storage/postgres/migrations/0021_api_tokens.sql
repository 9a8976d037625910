-- Issue 16, build point 2: per-course tokens of the REST API for integrations. Only a SHA-256
-- hash of each token is stored (the token is high-entropy, so a plain hash is enough); the
-- label is the token's first characters, for the owner to tell tokens apart. Revoked tokens
-- stay (revoked_at set) so the audit can name them. Making and revoking are audited in
-- course_audit (actions api_token_new, api_token_revoke).
CREATE TABLE IF NOT EXISTS api_tokens (
    id            bigserial PRIMARY KEY,
    token_hash    text NOT NULL UNIQUE,
    course_id     bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    label         text NOT NULL,
    scope         text NOT NULL CHECK (scope IN ('read', 'read_write')),
    created_by    bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    bigint
);
CREATE INDEX IF NOT EXISTS api_tokens_course_idx ON api_tokens (course_id, id);

-- The API pages a course's records by (session start, session, student).
CREATE INDEX IF NOT EXISTS attendance_audit_record_idx ON attendance_audit (session_id, student_id);
