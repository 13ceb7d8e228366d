// One <script src="https://HOST/widget.js" async></script> puts the chat widget on any page: a launcher
// bubble at the bottom right opens it in a frame, and a badge counts replies that arrive while it is closed.
// Texts come from the service (GET /api/ui/widget); see docs/pages.md.
(() => {
  const script = document.currentScript;
  const origin = new URL(script ? script.src : location.href).origin;
  const bubble = document.createElement("button");
  const badge = document.createElement("span");
  const frame = document.createElement("iframe");
  let unread = 0;
  bubble.id = "huashu-launcher";
  bubble.setAttribute("style", "position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;" +
    "border:none;background:#2563eb;box-shadow:0 4px 12px rgba(0,0,0,.25);cursor:pointer;z-index:2147483000;" +
    `background-image:url(${origin}/favicon.ico);background-size:60%;background-repeat:no-repeat;background-position:center`);
  badge.id = "huashu-unread";
  badge.setAttribute("style", "position:absolute;top:-4px;right:-4px;min-width:18px;height:18px;border-radius:9px;" +
    "background:#dc2626;color:#fff;font:12px/18px sans-serif;display:none;padding:0 4px");
  bubble.appendChild(badge);
  frame.id = "huashu-frame";
  frame.src = `${origin}/?embed=1`;
  frame.setAttribute("style", "position:fixed;right:20px;bottom:88px;width:380px;height:560px;max-height:80vh;" +
    "border:1px solid #e5e7eb;border-radius:12px;box-shadow:0 8px 24px rgba(0,0,0,.2);background:#fff;" +
    "z-index:2147483000;display:none");
  const open = () => frame.style.display !== "none";
  const showBadge = () => { badge.textContent = String(unread); badge.style.display = unread ? "block" : "none"; };
  bubble.onclick = () => {
    frame.style.display = open() ? "none" : "block";
    if (open()) { unread = 0; showBadge(); }
  };
  window.addEventListener("message", (event) => {
    if (event.origin !== origin || !event.data || event.data.huashu !== "message" || open()) return;
    unread += 1; showBadge();
  });
  fetch(`${origin}/api/ui/widget`).then((r) => r.json()).then((texts) => {
    bubble.title = texts["launcher.title"] || ""; bubble.setAttribute("aria-label", bubble.title);
  }).catch(() => {});
  document.body.append(bubble, frame);
})();
