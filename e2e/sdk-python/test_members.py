"""Project members: added through Tessera's extension endpoint, listed and removed through the SDK."""

from __future__ import annotations

import uuid

import ory_client

from sdk_helpers import expect_api_error, unique


def _add_member(raw, key, project_id, role, name=None):
    email = f"{unique('member')}@example.com"
    response = raw("POST", f"/projects/{project_id}/members", key, {"email": email, "name": name or email, "role": role})
    assert response.status == 201, response.body
    member = response.json()
    # The extension answers with the SDK's own ProjectMember shape.
    parsed = ory_client.ProjectMember.from_dict(member)
    assert parsed.email == email and parsed.role == role
    return member


def test_add_list_and_remove_members(tenant, project, raw):
    """Members added via POST /projects/{id}/members show up in get_project_members and leave on remove."""
    pid = str(project.id)
    owner = _add_member(raw, tenant.key, pid, "owner", name="Örjan Owner")
    developer = _add_member(raw, tenant.key, pid, "developer")
    viewer = _add_member(raw, tenant.key, pid, "viewer")

    members = tenant.project.get_project_members(pid)
    assert isinstance(members, list)
    assert all(isinstance(m, ory_client.ProjectMember) for m in members)
    by_id = {str(m.id): m for m in members}
    assert set(by_id) == {owner["id"], developer["id"], viewer["id"]}
    assert by_id[owner["id"]].role == "owner"
    assert by_id[owner["id"]].name == "Örjan Owner"
    assert by_id[developer["id"]].role == "developer"
    assert by_id[viewer["id"]].role == "viewer"
    assert isinstance(by_id[viewer["id"]].email_verified, bool)

    assert tenant.project.remove_project_member(pid, developer["id"]) is None
    remaining = {str(m.id) for m in tenant.project.get_project_members(pid)}
    assert remaining == {owner["id"], viewer["id"]}


def test_removing_the_last_owner_is_406(tenant, project, raw):
    """remove_project_member on the only owner answers 406 and the owner stays."""
    pid = str(project.id)
    owner = _add_member(raw, tenant.key, pid, "owner")
    _add_member(raw, tenant.key, pid, "developer")

    expect_api_error(406, tenant.project.remove_project_member, pid, owner["id"])
    assert owner["id"] in {str(m.id) for m in tenant.project.get_project_members(pid)}

    # With a second owner, the first one may go.
    second = _add_member(raw, tenant.key, pid, "owner")
    assert tenant.project.remove_project_member(pid, owner["id"]) is None
    owners = [m for m in tenant.project.get_project_members(pid) if m.role == "owner"]
    assert [str(m.id) for m in owners] == [second["id"]]


def test_adding_a_member_again_changes_the_role(tenant, project, raw):
    """POSTing an existing member's email again updates the role instead of duplicating them."""
    pid = str(project.id)
    email = f"{unique('again')}@example.com"
    first = raw("POST", f"/projects/{pid}/members", tenant.key, {"email": email, "name": "Again", "role": "viewer"})
    assert first.status == 201, first.body
    second = raw("POST", f"/projects/{pid}/members", tenant.key, {"email": email, "name": "Again", "role": "developer"})
    assert second.status in (200, 201), second.body
    members = [m for m in tenant.project.get_project_members(pid) if m.email == email]
    assert len(members) == 1 and members[0].role == "developer"


def test_removing_an_unknown_member_is_404(tenant, project):
    """remove_project_member for an account that is not a member answers 404."""
    expect_api_error(404, tenant.project.remove_project_member, str(project.id), str(uuid.uuid4()))
