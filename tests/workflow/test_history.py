from tests.factories import login


def test_the_public_sees_a_finalist_but_not_its_internal_comments(app, make, client):
    case = make.case("public_vote")
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200 and case.title in page.text
    assert 'class="timeline"' not in page.text and "test" not in page.text.split(case.title, 1)[1]
    login(client, case.created_by)
    page = client.get(f"/cases/{case.id}")
    assert 'class="timeline"' in page.text
