"""Jobs: everything on a schedule, every run recorded.

``schedule`` (APScheduler, jobs kept in MongoDB), ``tasks`` (the job functions it
stores by name), ``runner`` (lease, run record, context per job), ``isolated`` (jobs
in child processes) and ``status`` (last and next runs, for ``listening status``).
"""
