"""Safety wording that every report carries."""

DISCLAIMER = (
    "movescreen is a movement screen, not a diagnosis. It estimates joint angles from a single "
    "camera and can be wrong; a qualified professional should interpret the results."
)
PAIN_GUIDANCE = (
    "Sharp joint pain during a movement means stop and see a medical professional. Do not push "
    "through pain to complete a movement."
)

REFERRAL = (
    "Pain was reported{where}. Refer the client to a medical professional (doctor or "
    "physiotherapist) before any mobility or strength work: pain changes how people move, so "
    "these movement findings cannot tell a mobility problem from pain avoidance, and loading a "
    "painful joint can make an injury worse."
)
NO_PAIN = (
    "No pain was recorded. Findings point to mobility and motor-control work for the joints marked "
    "'not doing its job'; if sharp pain appears, stop and see a medical professional."
)


def pain_recommendation(pain: str | None, findings: object = None) -> dict[str, object]:
    """The report's ``pain`` section: what was reported and the recommendation it leads to."""
    if pain and pain.strip():
        text = pain.strip()
        return {
            "reported": text,
            "recommendation": REFERRAL.format(where=f" ({text})"),
            "referral": True,
        }
    return {"reported": None, "recommendation": NO_PAIN, "referral": False}
