"""Clients of systems outside a part's own boundary (HackSoft style: integrations/<vendor>/)."""
