"""The message area: every htmx answer carries it out of band, with what was just flashed."""

import re

OOB_AREA = re.compile(r'<div id="messages"[^>]*\bhx-swap-oob="true"[^>]*>(.*?)</div>', re.S)
MESSAGE = re.compile(r'<p class="flash flash-\w+">([^<]*)</p>')


def oob_messages(response):
    """Return the messages of RESPONSE's out-of-band message area, or None when it has none."""
    areas = OOB_AREA.findall(response.get_data(as_text=True))
    assert len(areas) <= 1, "one message area per answer"
    return MESSAGE.findall(areas[0]) if areas else None


def save_general(client, user_id):
    """Save Ida Inman's General tab with a new last name; return the response."""
    return client.post(f"/users/{user_id}/general",
                       data={"version": "1", "last_name": "Inman-Smith", "first_name": "Ida",
                             "user_group": "Community", "primary_id": "INT1",
                             "status": "active", "notices_opt_in": "on"})


def test_htmx_save_answers_with_the_message_out_of_band(login_as, patrons, htmx_client):
    login_as("User Manager")
    uid = patrons["internal"]
    assert oob_messages(save_general(htmx_client, uid)) == ["Saved."]
    # Shown once: the next page does not say it again.
    assert "Saved." not in htmx_client.client.get(f"/users/{uid}").get_data(as_text=True)


def test_the_next_htmx_answer_clears_the_message(login_as, patrons, htmx_client):
    login_as("User Manager")
    uid = patrons["internal"]
    save_general(htmx_client, uid)
    assert oob_messages(htmx_client.get(f"/users/{uid}/history")) == []


def test_a_page_holds_the_message_area_in_place(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    response = save_general(client, uid)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert oob_messages(page) is None
    assert re.search(r'<div id="messages"[^>]*>\s*<p class="flash flash-success">Saved.</p>',
                     page.get_data(as_text=True))


def test_desk_update_answers_with_the_message_out_of_band(login_as, patrons, htmx_client):
    login_as("General System Administrator")
    uid = patrons["internal"]
    response = htmx_client.post(f"/desk/patrons/{uid}",
                                data={"version": "1", "notes.new.text": "Called about a fine."})
    assert response.status_code == 200
    assert oob_messages(response) == ["Updated Ida Inman."]


def test_settings_saved_with_htmx_say_so_at_once(login_as, htmx_client):
    login_as("General System Administrator")
    # htmx follows the redirect after the save and swaps the form it answers.
    response = htmx_client.post("/admin/settings", data={"end0": "06-30", "end1": "12-20"},
                                follow_redirects=True)
    assert response.status_code == 200
    assert oob_messages(response) == ["Semester end dates saved."]
