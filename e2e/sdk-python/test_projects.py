"""Projects through ory_client.ProjectApi: create, list, get, set, patch, patch with revision, purge."""

from __future__ import annotations

import uuid

import ory_client
import pytest

from sdk_helpers import expect_api_error, set_body_from, unique

IDENTITY = "/services/identity/config"


@pytest.mark.parametrize("environment", ["prod", "stage", "dev"])
def test_create_project_in_each_environment(tenant, environment):
    """create_project works for prod, stage and dev and returns a complete Project."""
    name = unique(f"sdk-{environment}")
    project = tenant.project.create_project(
        ory_client.CreateProjectBody(name=name, environment=environment, workspace_id=tenant.workspace_id)
    )
    assert isinstance(project, ory_client.Project)
    assert project.name == name
    assert project.environment == environment
    assert project.home_region == "eu-central", "eu-central is the default region"
    assert project.state == "running"
    assert project.workspace_id == tenant.workspace_id
    assert project.organizations == []
    assert isinstance(project.revision_id, uuid.UUID)
    assert project.slug
    assert project.services.identity is not None and project.services.identity.config
    assert project.services.permission is not None
    assert project.services.oauth2 is not None
    assert isinstance(project.cors_public, ory_client.ProjectCors)
    assert isinstance(project.cors_admin, ory_client.ProjectCors)


@pytest.mark.parametrize("region", ["eu-central", "us-east"])
def test_create_project_in_each_region(tenant, region):
    """create_project honours home_region for both configured regions, and GET agrees."""
    project = tenant.project.create_project(
        ory_client.CreateProjectBody(
            name=unique("sdk-region"), environment="prod", home_region=region, workspace_id=tenant.workspace_id
        )
    )
    assert isinstance(project, ory_client.Project)
    assert project.home_region == region
    assert tenant.project.get_project(str(project.id)).home_region == region


def test_create_project_without_workspace_id_uses_the_keys_workspace(tenant):
    """A workspace key that names no workspace_id creates the project in its own workspace."""
    project = tenant.project.create_project(ory_client.CreateProjectBody(name=unique("sdk-nows"), environment="dev"))
    assert isinstance(project, ory_client.Project)
    assert project.workspace_id == tenant.workspace_id


def test_list_projects_shows_this_workspace_only(tenant, new_project, seeded, dev):
    """list_projects returns ProjectMetadata for the key's workspace and nothing else."""
    made = {str(new_project(environment=env).id) for env in ("prod", "stage")}
    listing = tenant.project.list_projects()
    assert isinstance(listing, list)
    assert all(isinstance(p, ory_client.ProjectMetadata) for p in listing)
    assert {str(p.id) for p in listing} == made
    assert dev["project"]["id"] not in {str(p.id) for p in listing}

    seeded_listing = seeded.project.list_projects()
    assert dev["project"]["id"] in {str(p.id) for p in seeded_listing}
    assert not made & {str(p.id) for p in seeded_listing}


def test_get_project_matches_create(tenant, project):
    """get_project returns the same project that create_project returned."""
    fetched = tenant.project.get_project(str(project.id))
    assert isinstance(fetched, ory_client.Project)
    assert fetched.to_dict() == project.to_dict()


def test_project_key_gets_and_lists_only_its_project(dev, clients_for):
    """The seeded project API key reads its own project, and list_projects shows only that one."""
    clients = clients_for(dev["project"]["api_key"])
    project = clients.project.get_project(dev["project"]["id"])
    assert isinstance(project, ory_client.Project)
    assert project.slug == dev["project"]["slug"]
    assert [str(p.id) for p in clients.project.list_projects()] == [dev["project"]["id"]]


def test_operator_sees_every_workspace_and_project(operator, tenant, project):
    """The operator key reads any workspace and project, and lists projects of all workspaces."""
    assert str(operator.workspace.get_workspace(tenant.workspace_id).id) == tenant.workspace_id
    assert operator.project.get_project(str(project.id)).id == project.id
    assert str(project.id) in {str(p.id) for p in operator.project.list_projects()}
    listing = operator.workspace.list_workspace_projects(tenant.workspace_id)
    assert [str(p.id) for p in listing.projects] == [str(project.id)]


def test_set_project_replaces_settings_and_makes_a_new_revision(tenant, project):
    """set_project with a full SetProject built from GET applies it and changes revision_id."""
    current = tenant.project.get_project(str(project.id))
    config = current.services.identity.config
    config["session"]["lifespan"] = "24h"
    body = set_body_from(
        current,
        name=unique("renamed"),
        cors_public=ory_client.ProjectCors(enabled=True, origins=["https://app.example.com"]),
    )

    result = tenant.project.set_project(str(project.id), body)
    assert isinstance(result, ory_client.SuccessfulProjectUpdate)
    assert isinstance(result.warnings, list)
    updated = result.project
    assert updated.revision_id != current.revision_id
    assert updated.name == body.name
    assert updated.cors_public.enabled is True
    assert updated.cors_public.origins == ["https://app.example.com"]
    assert updated.services.identity.config["session"]["lifespan"] == "24h"
    # What PUT did not name stays as it was.
    assert updated.id == current.id and updated.slug == current.slug
    assert updated.environment == current.environment and updated.home_region == current.home_region

    again = tenant.project.get_project(str(project.id))
    assert again.to_dict() == updated.to_dict()


def test_set_project_twice_makes_two_revisions(tenant, project):
    """Every PUT, even one that changes nothing, records a new revision id."""
    first = tenant.project.set_project(str(project.id), set_body_from(project)).project
    second = tenant.project.set_project(str(project.id), set_body_from(first)).project
    assert len({project.revision_id, first.revision_id, second.revision_id}) == 3


def test_patch_project_add_replace_remove(tenant, project):
    """patch_project applies add, replace and remove operations, and GET shows their effect."""
    pid = str(project.id)
    result = tenant.project.patch_project(
        pid,
        [
            ory_client.JsonPatch(op="add", path=f"{IDENTITY}/selfservice/methods/totp/config/issuer", value="Tessera SDK"),
            ory_client.JsonPatch(op="replace", path=f"{IDENTITY}/session/lifespan", value="12h"),
            ory_client.JsonPatch(op="add", path=f"{IDENTITY}/selfservice/allowed_return_urls/-", value="https://a.example.com/"),
            ory_client.JsonPatch(op="add", path=f"{IDENTITY}/selfservice/allowed_return_urls/-", value="https://b.example.com/"),
            ory_client.JsonPatch(op="replace", path="/name", value="patched"),
        ],
    )
    assert isinstance(result, ory_client.SuccessfulProjectUpdate)
    assert result.project.revision_id != project.revision_id

    after_add = tenant.project.get_project(pid)
    identity = after_add.services.identity.config
    assert after_add.name == "patched"
    assert identity["selfservice"]["methods"]["totp"]["config"]["issuer"] == "Tessera SDK"
    assert identity["session"]["lifespan"] == "12h"
    original_urls = project.services.identity.config["selfservice"]["allowed_return_urls"]
    assert identity["selfservice"]["allowed_return_urls"] == original_urls + ["https://a.example.com/", "https://b.example.com/"]

    index_of_a = len(original_urls)
    removed = tenant.project.patch_project(
        pid,
        [
            ory_client.JsonPatch(op="remove", path=f"{IDENTITY}/selfservice/methods/totp/config/issuer"),
            ory_client.JsonPatch(op="remove", path=f"{IDENTITY}/selfservice/allowed_return_urls/{index_of_a}"),
        ],
    )
    assert isinstance(removed, ory_client.SuccessfulProjectUpdate)
    assert removed.project.revision_id != after_add.revision_id

    after_remove = tenant.project.get_project(pid).services.identity.config
    assert "issuer" not in after_remove["selfservice"]["methods"]["totp"]["config"]
    assert after_remove["selfservice"]["allowed_return_urls"] == original_urls + ["https://b.example.com/"]
    assert after_remove["session"]["lifespan"] == "12h"


def test_patch_project_copy_move_and_test(tenant, project):
    """patch_project applies copy, move and a passing test operation."""
    pid = str(project.id)
    flows = f"{IDENTITY}/selfservice/flows"
    result = tenant.project.patch_project(
        pid,
        [
            ory_client.JsonPatch(op="test", path=f"{IDENTITY}/session/lifespan", value=project.services.identity.config["session"]["lifespan"]),
            ory_client.JsonPatch(op="replace", path=f"{flows}/login/lifespan", value="2h"),
            ory_client.JsonPatch(op="copy", var_from=f"{flows}/login/lifespan", path=f"{flows}/registration/lifespan"),
            ory_client.JsonPatch(op="add", path=f"{IDENTITY}/selfservice/methods/totp/config/issuer", value="Moved"),
            ory_client.JsonPatch(op="move", var_from=f"{IDENTITY}/selfservice/methods/totp/config/issuer", path="/name"),
        ],
    )
    assert isinstance(result, ory_client.SuccessfulProjectUpdate)
    fetched = tenant.project.get_project(pid)
    config = fetched.services.identity.config
    assert config["selfservice"]["flows"]["login"]["lifespan"] == "2h"
    assert config["selfservice"]["flows"]["registration"]["lifespan"] == "2h"
    assert "issuer" not in config["selfservice"]["methods"]["totp"]["config"]
    assert fetched.name == "Moved"


def test_patch_project_permission_and_oauth2_services(tenant, project):
    """JSON patches reach the permission and oauth2 service configs too."""
    pid = str(project.id)
    namespaces = [{"id": 1, "name": "Document"}, {"id": 2, "name": "Folder"}]
    tenant.project.patch_project(
        pid,
        [
            ory_client.JsonPatch(op="replace", path="/services/permission/config/namespaces", value=namespaces),
            ory_client.JsonPatch(op="replace", path="/services/oauth2/config/ttl/access_token", value="30m"),
        ],
    )
    fetched = tenant.project.get_project(pid)
    assert fetched.services.permission.config["namespaces"] == namespaces
    assert fetched.services.oauth2.config["ttl"]["access_token"] == "30m"


def test_patch_project_with_revision(tenant, project):
    """patch_project_with_revision applies on the current revision and answers 409 on a stale one."""
    pid = str(project.id)
    stale = str(project.revision_id)
    ok = tenant.project.patch_project_with_revision(
        pid, stale, [ory_client.JsonPatch(op="replace", path=f"{IDENTITY}/session/lifespan", value="48h")]
    )
    assert isinstance(ok, ory_client.SuccessfulProjectUpdate)
    assert str(ok.project.revision_id) != stale
    assert ok.project.services.identity.config["session"]["lifespan"] == "48h"

    expect_api_error(
        409,
        tenant.project.patch_project_with_revision,
        pid,
        stale,
        [ory_client.JsonPatch(op="replace", path=f"{IDENTITY}/session/lifespan", value="1h")],
    )
    assert tenant.project.get_project(pid).services.identity.config["session"]["lifespan"] == "48h"

    chained = tenant.project.patch_project_with_revision(
        pid, str(ok.project.revision_id), [ory_client.JsonPatch(op="replace", path="/name", value="chained")]
    )
    assert chained.project.name == "chained"


def test_revisions_extension_lists_every_change(tenant, project, raw):
    """Tessera's GET /projects/{id}/revisions records each revision made through the SDK."""
    pid = str(project.id)
    put = tenant.project.set_project(pid, set_body_from(project, name="rev-1")).project
    patched = tenant.project.patch_project(pid, [ory_client.JsonPatch(op="replace", path="/name", value="rev-2")]).project

    response = raw("GET", f"/projects/{pid}/revisions", tenant.key)
    assert response.status == 200, response.body
    revision_ids = {revision["id"] for revision in response.json()}
    assert {str(project.revision_id), str(put.revision_id), str(patched.revision_id)} <= revision_ids


def test_purge_project(tenant, new_project):
    """purge_project answers 204 (None); afterwards GET is 404 and the project leaves the lists."""
    doomed = new_project()
    survivor = new_project()
    assert tenant.project.purge_project(str(doomed.id)) is None

    expect_api_error(404, tenant.project.get_project, str(doomed.id))
    assert {str(p.id) for p in tenant.project.list_projects()} == {str(survivor.id)}
    workspace_listing = tenant.workspace.list_workspace_projects(tenant.workspace_id)
    assert {str(p.id) for p in workspace_listing.projects} == {str(survivor.id)}
    expect_api_error(404, tenant.project.purge_project, str(doomed.id))
