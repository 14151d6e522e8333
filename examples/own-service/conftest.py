"""Nothing to configure: the plugin and its fixtures come from the pytest11 entry point.

Override ``traefik_pki`` here to bring your own CA (see docs/security.md).
"""
