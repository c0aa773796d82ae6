import { useEffect, useId, useRef, type ReactNode } from "react";
import { IconButton } from "./Button";

export interface DialogProps {
  open: boolean;
  title: string;
  /** Called on Escape, the close button, or a click on the backdrop. */
  onClose: () => void;
  children: ReactNode;
}

/**
 * A modal dialog on the native `<dialog>` element: the browser traps focus, makes the page behind
 * inert, and returns focus to where it was when the dialog closes. Opening focuses the first field.
 */
export function Dialog({ open, title, onClose, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      // The browser would focus the close button, the first thing in the dialog; start at the
      // first field instead (or whatever asks for it with data-autofocus).
      dialog.querySelector<HTMLElement>("[data-autofocus], input, select, textarea")?.focus();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      className="sl-dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        if (event.target === ref.current) onClose();
      }}
    >
      {open ? (
        <>
          <header className="sl-dialog__header">
            <h2 id={titleId} className="sl-dialog__title">
              {title}
            </h2>
            <IconButton icon="close" label="Close" onClick={onClose} />
          </header>
          <div className="sl-dialog__body">{children}</div>
        </>
      ) : null}
    </dialog>
  );
}
