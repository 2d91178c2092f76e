"""Every successful response parses into the SDK's models, with nothing lost on the way."""

from __future__ import annotations

import json

import ory_client

from sdk_helpers import set_body_from, unique


def _parsed_and_raw(call, *args):
    """Call an SDK `_with_http_info` variant; return (parsed model, raw JSON document)."""
    response = call(*args)
    assert 200 <= response.status_code < 300
    return response.data, (json.loads(response.raw_data) if response.raw_data else None)


def _assert_nothing_dropped(model, document: dict, label: str) -> None:
    """Every key the server sent ended up in the model: as a field, or in additional_properties."""
    aliases = {(field.alias or name): name for name, field in type(model).model_fields.items()}
    for key, value in document.items():
        if key in model.additional_properties:
            continue
        assert key in aliases, f"{label}: {key} neither a field nor kept"
        if value is not None:
            assert getattr(model, aliases[key]) is not None, f"{label}: {key} was dropped"


def test_every_read_operation_returns_parsed_models(tenant, project, raw):
    """All read operations return SDK models (no pydantic ValidationError) that keep every field sent."""
    pid, wid = str(project.id), tenant.workspace_id
    tenant.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name=unique("pat")))
    assert raw("POST", f"/projects/{pid}/members", tenant.key, {"email": f"{unique('m')}@example.com", "name": "M", "role": "owner"}).status == 201

    checks = [
        (tenant.project.get_project_with_http_info, (pid,), ory_client.Project),
        (tenant.workspace.get_workspace_with_http_info, (wid,), ory_client.Workspace),
        (tenant.workspace.list_workspaces_with_http_info, (), ory_client.ListWorkspaces),
        (tenant.workspace.list_workspace_projects_with_http_info, (wid,), ory_client.ListWorkspaceProjects),
    ]
    for call, args, model in checks:
        parsed, document = _parsed_and_raw(call, *args)
        assert isinstance(parsed, model), call.__name__
        _assert_nothing_dropped(parsed, document, call.__name__)

    list_checks = [
        (tenant.project.list_projects_with_http_info, (), ory_client.ProjectMetadata),
        (tenant.project.list_project_api_keys_with_http_info, (pid,), ory_client.ProjectApiKey),
        (tenant.project.get_project_members_with_http_info, (pid,), ory_client.ProjectMember),
        (tenant.workspace.list_workspace_api_keys_with_http_info, (wid,), ory_client.WorkspaceApiKey),
    ]
    for call, args, model in list_checks:
        parsed, document = _parsed_and_raw(call, *args)
        assert isinstance(parsed, list) and len(parsed) == len(document) >= 1, call.__name__
        for item, sent in zip(parsed, document):
            assert isinstance(item, model), call.__name__
            _assert_nothing_dropped(item, sent, call.__name__)


def test_every_write_operation_returns_parsed_models(tenant, operator):
    """All write operations return SDK models, or None for 204 answers."""
    workspace = operator.workspace.create_workspace(ory_client.CreateWorkspaceBody(name=unique("w")))
    assert isinstance(workspace, ory_client.Workspace)
    assert isinstance(
        tenant.workspace.update_workspace(tenant.workspace_id, ory_client.UpdateWorkspaceBody(name=unique("w"))),
        ory_client.Workspace,
    )
    project = tenant.project.create_project(ory_client.CreateProjectBody(name=unique("p"), environment="stage"))
    assert isinstance(project, ory_client.Project)
    pid = str(project.id)
    assert isinstance(tenant.project.set_project(pid, set_body_from(project)), ory_client.SuccessfulProjectUpdate)
    patched = tenant.project.patch_project(pid, [ory_client.JsonPatch(op="replace", path="/name", value="x")])
    assert isinstance(patched, ory_client.SuccessfulProjectUpdate)
    revised = tenant.project.patch_project_with_revision(
        pid, str(patched.project.revision_id), [ory_client.JsonPatch(op="replace", path="/name", value="y")]
    )
    assert isinstance(revised, ory_client.SuccessfulProjectUpdate)
    wkey = tenant.workspace.create_workspace_api_key(tenant.workspace_id, ory_client.CreateWorkspaceApiKeyBody(name="k"))
    assert isinstance(wkey, ory_client.WorkspaceApiKey)
    pkey = tenant.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name="k"))
    assert isinstance(pkey, ory_client.ProjectApiKey)
    assert tenant.workspace.delete_workspace_api_key(tenant.workspace_id, str(wkey.id)) is None
    assert tenant.project.delete_project_api_key(pid, str(pkey.id)) is None
    assert tenant.project.purge_project(pid) is None


def test_project_json_has_every_required_key(tenant, project):
    """The raw project JSON carries each key Ory's Project schema requires, with the right JSON types."""
    document = json.loads(tenant.project.get_project_with_http_info(str(project.id)).raw_data)
    for key in ("id", "name", "slug", "environment", "home_region", "state", "revision_id", "services", "organizations"):
        assert key in document, key
    assert document["organizations"] == []
    for service in ("identity", "permission", "oauth2"):
        assert isinstance(document["services"][service]["config"], dict), service
    for cors in ("cors_public", "cors_admin"):
        assert isinstance(document[cors]["enabled"], bool)
        assert isinstance(document[cors]["origins"], list)
