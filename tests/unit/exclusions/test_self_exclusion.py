"""The stack's own roles are always in the exclusion list, so reading an index manifest is never a pull."""

from __future__ import annotations

from ecr_archiver.exclusions.logic import reconcile_exclusions
from ecr_archiver.exclusions.models import RefusalReason, SyncResult
from ecr_archiver.exclusions.settings import SyncExclusionsSettings

from .builders import PATH, FakeParameterStore, FakeRegistry, no_sleep, options, role

OWN = (role("ecr-archiver-PlanArchiveRole-A"), role("ecr-archiver-ArchiveImagesRole-B"))


def sync(store: FakeParameterStore, registry: FakeRegistry, **overrides: object) -> SyncResult:
    return reconcile_exclusions(options(**overrides), store=store, registry=registry, sleep=no_sleep)


def test_the_stacks_own_roles_are_registered_with_the_declared_principals() -> None:
    store = FakeParameterStore().team("scanners", role("snyk"))
    registry = FakeRegistry()
    sync(store, registry, own_principals=OWN)
    assert registry.principals == {role("snyk"), *OWN}


def test_the_stacks_own_roles_are_never_deregistered_even_when_nothing_else_is_declared() -> None:
    # Given an operator who removed every team parameter, and the empty-sync guard lifted
    registry = FakeRegistry(role("retired"), *OWN)
    result = sync(FakeParameterStore(), registry, own_principals=OWN, allow_empty=True)
    # Then only the stale principal goes; the stack's roles stay
    assert registry.principals == set(OWN)
    assert result.removed == (role("retired"),)


def test_a_full_list_refuses_and_says_reads_are_conservative_until_it_fits() -> None:
    store = FakeParameterStore().team("scanners", *(role(f"s{n}") for n in range(99)))
    result = sync(store, FakeRegistry(), own_principals=OWN)
    assert result.refused is RefusalReason.TOO_MANY_PRINCIPALS
    assert "2 of the stack's own roles" in (result.reason or "")
    assert "manifestReads: conservative" in (result.reason or "")


def test_the_settings_read_the_own_roles_from_the_template_variable() -> None:
    settings = SyncExclusionsSettings.model_validate(
        {"EXCLUSIONS_PARAMETER_PATH": PATH, "OWN_ROLE_ARNS": ",".join(OWN)}
    )
    assert settings.sync_options().own_principals == OWN
