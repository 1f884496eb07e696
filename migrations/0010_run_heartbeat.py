"""Record which process runs a synchronization, and when it last showed it was alive.

A run whose process died (killed, machine restarted) would otherwise stay "running"
forever. With the host, the process id and a heartbeat, a run can be told apart as
interrupted: its process is gone on this host, or its heartbeat is stale on another.
"""

from peewee import CharField, DateTimeField, IntegerField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("sync_run", "host", CharField(max_length=255, null=True)),
        migrator.add_column("sync_run", "pid", IntegerField(null=True)),
        migrator.add_column("sync_run", "heartbeat", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("sync_run", "heartbeat"),
        migrator.drop_column("sync_run", "pid"),
        migrator.drop_column("sync_run", "host"),
    )
