import { ensureImage } from "../test/vm/image";
ensureImage("openzfs", (l) => console.log(new Date().toISOString(), l)).then((i) => console.log("READY", JSON.stringify(i).slice(0, 300)), (e) => { console.error("FAILED", e); process.exitCode = 1; });
