"""Background job runner: in-process under `redfed run`, or `redfed worker` processes at scale."""
