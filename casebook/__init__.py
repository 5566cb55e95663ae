"""The `casebook` command: wires the ingest, index and service stages together."""
