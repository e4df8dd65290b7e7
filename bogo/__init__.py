"""A BoGo shim for schannel_py: BoringSSL's TLS test runner drives the SSPI client.

Run ``python -m bogo.shim`` (or ``python bogo/shim.py``); see ``bogo/README.md``.
"""
