// The 辟谣/核实 page: record a claim or mark its verdict through the REST API, as the
// signed-in user (session cookie plus the CSRF header). Text goes into the page with
// textContent only.
(function () {
  "use strict";
  var YQ = window.YQ, T = YQ.T, problem = YQ.problem;
  // as the signed-in user only, never with an API token saved in this tab
  function api(method, url, body) { return YQ.api(method, url, body, { session: true }); }

  function start() {
    var form = document.getElementById("claim-form");
    if (!form) { return; }
    var id = document.getElementById("claim-id");
    var statement = document.getElementById("claim-statement");
    var verdict = document.getElementById("claim-verdict");
    var evidence = document.getElementById("claim-evidence");
    var status = document.getElementById("claim-status");
    function say(cls, text) { status.className = cls; status.textContent = text; }

    document.getElementById("claim-new").addEventListener("click", function () {
      form.reset();
      id.value = "";
      statement.readOnly = false;
      say("", "");
    });
    var table = document.getElementById("claims-table");
    if (table) {
      table.addEventListener("click", function (e) {
        var button = e.target.closest("button.mark");
        if (!button) { return; }
        id.value = button.dataset.id;
        statement.value = button.dataset.statement;
        statement.readOnly = true;
        verdict.value = button.dataset.verdict;
        evidence.value = button.dataset.evidence;
        say("", button.dataset.id);
        form.scrollIntoView();
      });
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!statement.value.trim()) { say("bad", T("请填写说法")); return; }
      if (verdict.value !== "unverified" && !evidence.value.trim()) {
        say("bad", T("判定为属实或不实时需填写证据链接"));
        return;
      }
      var note = document.getElementById("claim-note").value.trim();
      var body = { verdict: verdict.value, evidence_url: evidence.value.trim() || null, note: note };
      var request;
      if (id.value) {
        request = api("PUT", "/api/v1/claims/" + encodeURIComponent(id.value), body);
      } else {
        body.statement = statement.value.trim();
        body.event_id = document.getElementById("claim-event").value.trim() || null;
        var phrases = document.getElementById("claim-phrases").value.split(/[,，、]/)
          .map(function (p) { return p.trim(); }).filter(function (p) { return p; });
        if (phrases.length) { body.key_phrases = phrases; }
        request = api("POST", "/api/v1/claims", body);
      }
      request.then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          say("good", T("已保存") + "：" + answer.data.claim.id);
          setTimeout(function () { window.location.reload(); }, 500);
          return;
        }
        say("bad", problem(answer));
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
