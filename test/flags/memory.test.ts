import { memoryFlags } from "../../src/flags/memory.ts";
import { describeFlagStore } from "./_contract.ts";

describeFlagStore("memoryFlags()", () => memoryFlags());
