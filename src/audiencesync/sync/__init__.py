"""The sync engine: plans, runs, checkpoints, sync state and the run lock."""
