"""The refresh pipeline, schedules and the scheduler loop that fires them."""
