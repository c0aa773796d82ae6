import type { DispatchModule } from "../views/DispatchHeader";

// The last project opened, per browser, so the launcher's tiles lead straight into it.
const key = "sluice.dispatch.project";

export function rememberProject(projectId: string): void {
  try {
    localStorage.setItem(key, projectId);
  } catch {
    // Storage may be off (private mode): the picker simply asks again.
  }
}

export function rememberedProject(): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function isModule(name: string): name is DispatchModule {
  return name === "orders" || name === "routes" || name === "activity";
}
