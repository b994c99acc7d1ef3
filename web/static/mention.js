// The mention page: r to reply, e to resolve, a to assign to me.
(function () {
  "use strict";
  var page = document.querySelector(".mention-page");
  if (!page || !page.dataset.statusUrl) return;
  document.addEventListener("keydown", function (event) {
    if (Earshot.typing(event)) return;
    var action = null;
    if (event.key === "r" && document.getElementById("reply-link")) window.location.href = page.dataset.replyUrl;
    else if (event.key === "e") action = [page.dataset.statusUrl, { status: "resolved" }];
    else if (event.key === "a") action = [page.dataset.assignUrl, { assignee: "me" }];
    else return;
    event.preventDefault();
    if (!action) return;
    Earshot.post(action[0], action[1]).then(function (result) {
      if (result.ok) window.location.reload();
      else Earshot.toast(result.data.message || "Not allowed.", true);
    });
  });
})();
