"""The web pages (server-rendered HTML) that ``audiencesync serve`` shows.

They call the same services as the CLI and the REST API, as the signed-in
user: the role checks are the services' own.
"""
