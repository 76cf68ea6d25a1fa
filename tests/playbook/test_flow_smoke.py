from tests.playbook.conftest import Flow


def test_a_project_reaches_the_gate_and_ships(flow: Flow) -> None:
    flow.start()
    kept = flow.ready_for_gate()
    flow.clear(kept)
    image = next(i for i in flow.service.images(flow.project_id) if i.number == kept)
    assert image.status == "shipped"
    assert image.alt_text == "A courier on a red bike at dawn."
