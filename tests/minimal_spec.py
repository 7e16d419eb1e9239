"""The smallest valid onboarding spec (one HubSpot table): the base the spec-error tests change one field of.

Shared by ``tests/aep_onboarding/test_spec_errors.py`` and the bad-input catalogue in ``tests/reliability``.
"""

VALID = """\
name: demo
hubspot: {conn_id: hubspot_default}
objects:
  - source: Hubspot.Contacts
    delta_column: Added_At
    mapping:
      - {source: Vid, destination: _id}
"""
