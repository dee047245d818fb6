// Code generation on the subject page: start a job without leaving the page and follow it with a progress bar.
// Without this script the forms post as usual and the job page refreshes itself until the job ends.
(function () {
  "use strict";

  var POLL_MILLISECONDS = 500;
  var FINISHED = { succeeded: true, failed: true };

  function element(tag, attributes, text) {
    var made = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      made.setAttribute(name, attributes[name]);
    });
    if (text) {
      made.textContent = text; // never innerHTML: messages and names come from users and protoc
    }
    return made;
  }

  // The API answers absolute URLs; behind a proxy they may name another scheme or host, so keep only the path.
  function onThisSite(url) {
    var parsed = new URL(url, window.location.href);
    return parsed.pathname + parsed.search;
  }

  function stateText(job, label) {
    var text = label + ": " + job.state;
    if (job.progress && job.progress.total) {
      text += " (" + job.progress.done + " of " + job.progress.total + " files)";
    }
    return text;
  }

  function progressBar(job) {
    var total = (job.progress && job.progress.total) || 0;
    var bar = element("progress", { max: String(total || 1) });
    if (FINISHED[job.state]) {
      bar.value = total || 1;
    } else if (total) {
      bar.value = job.progress.done;
    } // else no value: an indeterminate bar while the job waits for a worker
    return bar;
  }

  function outcome(job, label) {
    if (job.state === "succeeded") {
      var links = element("p");
      links.appendChild(element("a", { class: "download", href: onThisSite(job.download_url) }, "Download the " + label + " archive (zip)"));
      links.appendChild(document.createTextNode(" · "));
      links.appendChild(element("a", { href: onThisSite(job.download_url) + "?format=tar.gz" }, "tar.gz"));
      return links;
    }
    if (job.state === "failed") {
      var failure = element("div", { class: "job-error" });
      failure.appendChild(element("p", {}, (job.error && job.error.message) || "The job failed."));
      var details = element("ul");
      ((job.error && job.error.details) || []).forEach(function (detail) {
        details.appendChild(element("li", {}, detail.file + ":" + detail.line + ":" + detail.column + " " + detail.message));
      });
      failure.appendChild(details);
      return failure;
    }
    return element("p", { class: "muted" }, "Waiting for the job to finish…");
  }

  function show(panel, job, label) {
    panel.hidden = false;
    panel.replaceChildren(element("p", { class: "job-state" }, stateText(job, label)), progressBar(job), outcome(job, label));
  }

  function showError(panel, message) {
    panel.hidden = false;
    panel.replaceChildren(element("p", { class: "job-error" }, message));
  }

  function follow(panel, statusUrl, label) {
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.message || "The job's status is not available (HTTP " + response.status + ").");
          }
          return body;
        });
      })
      .then(function (job) {
        show(panel, job, label);
        if (!FINISHED[job.state]) {
          window.setTimeout(function () { follow(panel, statusUrl, label); }, POLL_MILLISECONDS);
        }
      })
      .catch(function (error) { showError(panel, error.message); });
  }

  function start(form, panel) {
    var buttons = document.querySelectorAll("form.generate button");
    buttons.forEach(function (button) { button.disabled = true; });
    fetch(form.action, {
      method: "POST",
      body: new FormData(form), // carries the CSRF token of the form
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.message || "Code generation was refused (HTTP " + response.status + ").");
          }
          return body;
        });
      })
      .then(function (job) {
        var label = form.getAttribute("data-label") || job.language;
        show(panel, job, label);
        follow(panel, onThisSite(job.status_url), label);
      })
      .catch(function (error) { showError(panel, error.message); })
      .finally(function () {
        buttons.forEach(function (button) { button.disabled = false; });
      });
  }

  var subjectPanel = document.getElementById("code-job");
  document.querySelectorAll("form.generate").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      start(form, subjectPanel);
    });
  });
  document.querySelectorAll("[data-job-status]").forEach(function (panel) {
    follow(panel, panel.getAttribute("data-job-status"), panel.getAttribute("data-job-label"));
  });
})();
