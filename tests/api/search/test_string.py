"""String search (R4 search.html#string): case- and accent-insensitive starts-with; :exact, :contains."""

from __future__ import annotations

from tests.api.search.helpers import found
from tests.factories import patient


def _patient(client, unique, family, given="Ana", **fields):
    return client.create(patient(unique, family=family, name=[{"family": family, "given": [given]}], **fields))["id"]


def test_default_string_search_is_case_and_accent_insensitive_starts_with(client, unique):
    stem = f"Zz{unique[:8]}"
    a = _patient(client, unique, f"{stem}Müller")
    b = _patient(client, unique, f"{stem.upper()}MULLER")
    _patient(client, unique, f"X{stem}Muller")
    assert found(client, "Patient", family=f"{stem.lower()}mul") == sorted([a, b])
    assert found(client, "Patient", name=f"{stem}MÜ") == sorted([a, b])


def test_exact_modifier_matches_case_and_accents(client, unique):
    stem = f"Ex{unique[:8]}"
    a = _patient(client, unique, f"{stem}Müller")
    _patient(client, unique, f"{stem}Muller")
    assert found(client, "Patient", **{"family:exact": f"{stem}Müller"}) == [a]
    assert found(client, "Patient", **{"family:exact": f"{stem}müller"}) == []


def test_contains_modifier_matches_anywhere(client, unique):
    stem = f"Co{unique[:8]}"
    a = _patient(client, unique, f"Van{stem}Berg")
    assert found(client, "Patient", **{"family:contains": f"{stem[2:].lower()}ber"}) == [a]


def test_name_searches_given_and_family(client, unique):
    given = f"Gi{unique[:8]}"
    a = _patient(client, unique, "Smith", given=given)
    assert found(client, "Patient", given=given.lower()) == [a]
    assert found(client, "Patient", name=given) == [a]


def test_address_parts_are_searchable(client, unique):
    city = f"Ci{unique[:8]}"
    a = client.create(patient(unique, address=[{"line": ["1 Main St"], "city": city, "postalCode": "02139"}]))["id"]
    assert found(client, "Patient", **{"address-city": city.lower()}) == [a]
    assert found(client, "Patient", address=city, identifier=unique) == [a]


def test_like_wildcards_in_values_are_literal(client, unique):
    _patient(client, unique, f"Wild{unique[:6]}")
    assert found(client, "Patient", family="%", identifier=unique) == []
    assert found(client, "Patient", family="_", identifier=unique) == []


def test_missing_true_finds_resources_without_the_element(client, unique):
    with_name = _patient(client, unique, "Named")
    without = client.create(
        {"resourceType": "Patient", "identifier": [{"system": "http://hospital.example/mrn", "value": unique}]}
    )["id"]
    assert found(client, "Patient", identifier=unique, **{"family:missing": "true"}) == [without]
    assert found(client, "Patient", identifier=unique, **{"family:missing": "false"}) == [with_name]


def test_family_and_given_match_only_their_own_part_of_the_name(client, unique):
    word = f"Pa{unique[:8]}"
    as_family = _patient(client, unique, word, given="Ana")
    as_given = _patient(client, unique, "Other", given=word)
    assert found(client, "Patient", family=word) == [as_family]
    assert found(client, "Patient", given=word) == [as_given]
    assert found(client, "Patient", name=word) == sorted([as_family, as_given])
    assert found(client, "Patient", phonetic=word) == sorted([as_family, as_given])
    assert found(client, "Patient", **{"family:exact": word}) == [as_family]
    assert found(client, "Patient", **{"given:contains": word[1:].lower()}) == [as_given]


def test_address_parts_match_only_their_own_element(client, unique):
    word = f"Ad{unique[:8]}"
    in_city = client.create(patient(unique, address=[{"city": word, "state": "MA"}]))["id"]
    in_line = client.create(patient(unique, address=[{"line": [word], "city": "Boston"}]))["id"]
    assert found(client, "Patient", **{"address-city": word}) == [in_city]
    assert found(client, "Patient", address=word) == sorted([in_city, in_line])
    assert found(client, "Patient", identifier=unique, **{"address-state": "ma"}) == [in_city]


def test_missing_family_counts_a_name_with_only_given_names_as_missing(client, unique):
    only_given = client.create(patient(unique, name=[{"given": [f"Mi{unique[:8]}"]}]))["id"]
    with_family = _patient(client, unique, f"Mf{unique[:8]}")
    assert found(client, "Patient", identifier=unique, **{"family:missing": "true"}) == [only_given]
    assert found(client, "Patient", identifier=unique, **{"given:missing": "false"}) == sorted(
        [only_given, with_family]
    )
