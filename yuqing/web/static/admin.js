// The 用户 page (admins): create a user, change role or department, disable or enable, issue
// an API token (shown once), all through /api/v1/users as the signed-in admin (session
// cookie plus the CSRF header). Text goes into the page with textContent only.
(function () {
  "use strict";
  var YQ = window.YQ, T = YQ.T, showError = YQ.showError, problem = YQ.problem;
  // as the signed-in admin only, never with an API token saved in this tab
  function api(method, url, body) { return YQ.api(method, url, body || {}, { session: true }); }
  function userUrl(name, tail) { return "/api/v1/users/" + encodeURIComponent(name) + (tail || ""); }

  function start() {
    var table = document.getElementById("users-table");
    if (!table) { return; }
    table.addEventListener("click", function (e) {
      var button = e.target.closest("button");
      if (!button) { return; }
      var row = button.closest("tr");
      var name = row.dataset.user;
      if (button.classList.contains("save")) {
        var body = { role: row.querySelector("select.role").value, department: row.querySelector("input.department").value.trim() };
        api("PATCH", userUrl(name), body).then(function (answer) {
          if (answer.status !== 200) { showError(problem(answer)); return; }
          showError("");
          window.location.reload();
        });
      } else if (button.classList.contains("toggle")) {
        var disable = button.dataset.disabled !== "true";
        if (!window.confirm((disable ? T("确定停用用户") : T("确定启用用户")) + " " + name + "？")) { return; }
        api("PATCH", userUrl(name), { disabled: disable }).then(function (answer) {
          if (answer.status !== 200) { showError(problem(answer)); return; }
          window.location.reload();
        });
      } else if (button.classList.contains("token")) {
        api("POST", userUrl(name, "/tokens"), { name: "web" }).then(function (answer) {
          if (answer.status !== 201) { showError(problem(answer)); return; }
          showError("");
          document.getElementById("token-user").textContent = name;
          document.getElementById("token-value").textContent = answer.data.token;
          document.getElementById("token-shown").hidden = false;
          window.scrollTo(0, 0);
        });
      }
    });
    var form = document.getElementById("user-form");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var status = document.getElementById("user-status");
      var body = {
        username: document.getElementById("new-username").value.trim(),
        role: document.getElementById("new-role").value,
        display_name: document.getElementById("new-display").value.trim() || null,
        department: document.getElementById("new-department").value.trim() || null,
        password: document.getElementById("new-password").value || null
      };
      api("POST", "/api/v1/users", body).then(function (answer) {
        if (answer.status !== 201) { status.className = "bad"; status.textContent = problem(answer); return; }
        status.className = "good";
        status.textContent = T("已保存") + "：" + answer.data.user.username;
        setTimeout(function () { window.location.reload(); }, 400);
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
