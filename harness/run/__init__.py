"""Running scenarios: scenario files, boot, the runner and its checkpoints, state capture, hang
watch, injection, schedules, suites, and the faults caught while a scenario runs.
"""
