import type { ReactNode } from "react";

export interface ShellProps {
  /** The Taskbar. */
  taskbar: ReactNode;
  /** The ToastStack, above everything. */
  toasts?: ReactNode;
  children: ReactNode;
}

/** The frame of every signed-in screen: the module's content above, the taskbar below. */
export function Shell({ taskbar, toasts, children }: ShellProps) {
  return (
    <div className="sl-shell">
      <main className="sl-shell__main" id="main">
        {children}
      </main>
      {taskbar}
      {toasts}
    </div>
  );
}
