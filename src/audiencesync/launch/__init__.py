"""Fast start: commands run in a process forked from one that has imported everything.

A cold ``audiencesync`` process spends most of a short command importing its
libraries (0.6-0.8 s on two cores). While ``audiencesync serve`` runs, it keeps
a *launcher* (:mod:`audiencesync.launch.server`) beside it: a single-threaded
process that imported those libraries once and listens on ``launcher.sock`` in
the data folder. The ``audiencesync`` command (:mod:`audiencesync.launch.client`,
standard library only) hands it the command line, the environment, the working
directory and its own stdin, stdout and stderr; the launcher forks a *worker*
that runs the command exactly as a cold process would, writing straight to
those streams. The client forwards Ctrl-C and other signals to the worker and
exits with its exit code. When the client dies, the launcher kills the worker,
as the end of a cold process would end its run.

Anything unexpected (no launcher, a launcher of other code, a command that may
prompt for a secret) runs the command cold, in the client's own process.
"""
