"""Faithful local stand-ins for GitHub and the Anthropic Messages API.

Real HTTP servers on 127.0.0.1 that the real githubkit and anthropic SDKs (and
real git over smart HTTP) talk to. Shipped in the distribution because both the
test suite and `rolecall demo` use them; production code never imports them.
"""
