// movescreen workspace: seeking the video to a finding or rep, and job progress. No libraries.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const video = document.getElementById("video");
  const fps = video ? parseFloat(video.dataset.fps) || 30 : 30;
  document.querySelectorAll("button.seek").forEach((b) => {
    b.addEventListener("click", () => {
      if (!video) return;
      const frame = parseInt(b.dataset.frame, 10) || 0;
      video.pause();
      video.currentTime = frame / fps;
      document.querySelectorAll(".finding.active").forEach((e) => e.classList.remove("active"));
      const card = b.closest(".finding");
      if (card) card.classList.add("active");
    });
  });
  const jobs = document.querySelectorAll("[data-job-id]");
  jobs.forEach((li) => {
    if (li.dataset.jobStatus === "done" || li.dataset.jobStatus === "failed") return;
    const tick = async () => {
      try {
        const r = await fetch("/api/jobs/" + li.dataset.jobId, {credentials: "same-origin"});
        if (!r.ok) return;
        const j = await r.json();
        li.querySelector("progress").value = j.progress;
        li.querySelector(".job-status").textContent = j.status;
        li.querySelector(".job-message").textContent = j.message;
        if (j.status === "done" || j.status === "failed") { window.location.reload(); return; }
      } catch (e) { /* the server may be restarting; try again */ }
      setTimeout(tick, 1000);
    };
    setTimeout(tick, 1000);
  });
});
