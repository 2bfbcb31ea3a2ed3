"""The only package with SQL: PostgreSQL through psycopg 3 and its pool."""
