/** The portal's stylesheet and script, served by Keyhaven itself (the CSP allows only 'self'). */
export const PORTAL_CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--accent:#175ddc;--danger:#b42318;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9da7b3;--line:#30363d;--accent:#6ea8fe;--danger:#ff7b72;--ok:#56d364}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:1rem;padding:.6rem 1.2rem;border-bottom:1px solid var(--line)}
.brand{font-weight:700}nav{display:flex;align-items:center;gap:1rem;flex:1}nav ul{display:flex;gap:.9rem;list-style:none;margin:0;padding:0;flex:1}
nav a{color:var(--accent);text-decoration:none;padding:.2rem .1rem}nav a[aria-current=page]{font-weight:700;border-bottom:2px solid var(--accent)}
main{padding:1rem 1.2rem;max-width:1400px}h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;color:var(--muted);padding:.3rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}th{font-weight:600}
form{display:inline-block;margin:0 .25rem .25rem 0}button,input,select{font:inherit;color:inherit}
button{border:1px solid var(--line);background:transparent;border-radius:6px;padding:.2rem .6rem;cursor:pointer}
button:hover,button:focus-visible{border-color:var(--accent)}button.danger{color:var(--danger);border-color:var(--danger)}
button.link{border:0;color:var(--accent);text-decoration:underline}
input,select{border:1px solid var(--line);border-radius:6px;padding:.3rem .5rem;background:transparent}
label{display:inline-flex;flex-direction:column;gap:.15rem;margin-right:.6rem;font-size:.9rem;color:var(--muted)}
.flash{border-left:4px solid var(--ok);padding:.4rem .8rem;background:color-mix(in srgb,var(--ok) 10%,transparent)}
.error{border-left:4px solid var(--danger);padding:.4rem .8rem}
.badge{display:inline-block;border-radius:999px;padding:0 .5rem;font-size:.8rem;border:1px solid var(--line)}
.badge.off{color:var(--danger);border-color:var(--danger)}.badge.on{color:var(--ok);border-color:var(--ok)}
.empty,.muted{color:var(--muted)}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:var(--muted)}
.chart{max-width:720px;width:100%;height:auto}.chart rect{fill:var(--accent)}.chart text{fill:var(--fg);font-size:11px}
pre{overflow:auto;border:1px solid var(--line);padding:.6rem;border-radius:6px}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
`;

/** Destructive actions ask first: any form with data-confirm. */
export const PORTAL_JS = `
document.addEventListener('submit', function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) event.preventDefault();
});
`;
