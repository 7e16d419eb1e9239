"""Constants of the Platform APIs and the bases of request and response models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

HUBSPOT_CONNECTION_SPEC_ID = "cc6a4487-9e91-433e-a3a3-9cf6626c1806"
DATA_LAKE_CONNECTION_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CRM_TO_AEP_FLOW_SPEC_NAME = "CRMToAEP"

# The Schema Registry's media types (help/xdm/api/appendix.md, "Accept header"): the listing views (ids only,
# whole resources), one resource, one resource with its references resolved, and without titles and
# descriptions. Request bodies name a schema's content type with the same values.
XED_ID = "application/vnd.adobe.xed-id+json"
XED = "application/vnd.adobe.xed+json"
XED_SINGLE = "application/vnd.adobe.xed+json; version=1"
XED_FULL = "application/vnd.adobe.xed-full+json; version=1"
XED_FULL_NOTEXT = "application/vnd.adobe.xed-full-notext+json; version=1"
ADHOC_CLASS_REF = "https://ns.adobe.com/xdm/data/adhoc"
PROFILE_CLASS_REF = "https://ns.adobe.com/xdm/context/profile"
PROFILE_PERSON_DETAILS = "https://ns.adobe.com/xdm/context/profile-person-details"
PROFILE_PERSONAL_DETAILS = "https://ns.adobe.com/xdm/context/profile-personal-details"


class Body(BaseModel):
    """Base of request bodies: aliases are the wire names, unknown fields are refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    def to_body(self) -> dict:
        return self.model_dump(by_alias=True, mode="json")


class Answer(BaseModel):
    """Base of response bodies: tolerant of fields the service adds."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")
