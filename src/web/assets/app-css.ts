/** The page's styles, served as /assets/app.css (the CSP allows no inline style). */
export const APP_CSS = `:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; }
* { box-sizing: border-box; }
body { font: 16px/1.45 system-ui, sans-serif; margin: 0; padding: 0 1rem 2rem; }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; }
h1 { font-size: 1.4rem; margin: .8rem 0; }
h2 { font-size: 1.15rem; margin: 1.2rem 0 .4rem; }
h3 { font-size: 1rem; margin: .3rem 0; }
main.narrow { max-width: 28rem; margin: 2rem auto; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; color: var(--muted); padding: .2rem 0; }
th, td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-bottom: 1px solid #8884; }
.head { margin: 0; color: var(--muted); }
.state { font-weight: 600; padding: .05rem .4rem; border-radius: .3rem; border: 1px solid currentColor; }
.state-primary { color: var(--ok); }
.state-backup { color: var(--warn); }
.state-mixed, .state-unknown { color: var(--bad); }
.locked { color: var(--bad); font-weight: 600; }
.actions { white-space: nowrap; }
button { font: inherit; padding: .45rem .8rem; min-height: 2.75rem; min-width: 2.75rem; border-radius: .35rem; border: 1px solid #8888; background: ButtonFace; color: ButtonText; cursor: pointer; }
button:focus-visible, input:focus-visible, a:focus-visible, pre:focus-visible, #result:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
button[disabled] { opacity: .6; cursor: progress; }
input { font: inherit; padding: .4rem; min-height: 2.75rem; border: 1px solid #8888; border-radius: .35rem; max-width: 100%; }
form.lock { display: flex; gap: .3rem; flex-wrap: wrap; }
form.lock input { width: 8rem; }
label { display: block; margin: .3rem 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.nodes ul { list-style: none; padding: 0; display: grid; gap: .6rem; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); }
.nodes li { border: 1px solid #8886; border-radius: .5rem; padding: .6rem; }
.result { border-left: .35rem solid var(--ok); padding: .3rem .8rem; }
.result.error, p.error { border-left: .35rem solid var(--bad); padding: .3rem .8rem; }
.busy::before { content: "running: "; font-weight: 600; }
pre.diff { overflow-x: auto; padding: .5rem; background: #8881; border-radius: .35rem; font-size: .85rem; }
pre.diff .add { color: var(--ok); }
pre.diff .del { color: var(--bad); }
dialog { max-width: min(40rem, 100vw - 2rem); width: 100%; border: 1px solid #8888; border-radius: .6rem; padding: 1rem 1.2rem; }
dialog::backdrop { background: #0008; }
dialog .buttons { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-top: .6rem; }
.htmx-indicator { display: none; }
.htmx-request .htmx-indicator, .htmx-request.htmx-indicator { display: inline; }
@media (max-width: 40rem) {
  body { padding: 0 .5rem 1rem; }
  table.services, table.services tbody, table.services tr, table.services th, table.services td { display: block; min-width: 0; }
  table.services thead tr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.services tr { border: 1px solid #8886; border-radius: .5rem; margin: .6rem 0; padding: .3rem .6rem; }
  table.services th[scope=row] { font-size: 1.1rem; border: 0; padding: .3rem 0; }
  table.services td { border: 0; padding: .25rem 0; display: grid; grid-template-columns: 6.5rem 1fr; gap: .4rem; }
  table.services td::before { content: attr(data-label); color: var(--muted); }
  table.services caption { display: block; }
  .actions { white-space: normal; }
  .actions button { margin: 0 .2rem .3rem 0; }
}
`;
