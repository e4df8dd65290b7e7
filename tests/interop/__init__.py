"""Tests against real peers (openssl, gnutls-serv, Node.js) and of the BoGo shim."""
