"""Batch screening: many documents from folders and tables, resumable, on every core.

`inputs` enumerates documents in a fixed order; `runner` cuts them into shards, screens each
with `screen_shard` (pure, so that other executors can call it) and merges; `progress` draws on
stderr. The command is `unspin screen` (`unspin.cli.screen`).
"""
