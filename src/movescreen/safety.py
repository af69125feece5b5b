"""Safety wording that every report carries."""

DISCLAIMER = (
    "movescreen is a movement screen, not a diagnosis. It estimates joint angles from a single "
    "camera and can be wrong; a qualified professional should interpret the results."
)
PAIN_GUIDANCE = (
    "Sharp joint pain during a movement means stop and see a medical professional. Do not push "
    "through pain to complete a movement."
)
