-- Refresh token rotation for public clients (RFC 9700 section 4.14.2): a used refresh token is marked
-- rotated when its successor is issued; presenting a rotated token again revokes its whole grant.
ALTER TABLE refresh_tokens ADD COLUMN rotated_at timestamptz;
