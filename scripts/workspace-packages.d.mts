/** One workspace package. */
export interface WorkspacePackage {
  /** Its folder relative to the repository root, e.g. `packages/core`. */
  folder: string;
  /** Its absolute folder. */
  dir: string;
  name: string;
  version: string;
  manifest: {
    name: string;
    version: string;
    private?: boolean;
    bin?: Record<string, string>;
    exports?: Record<string, unknown>;
    scripts?: Record<string, string>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
}

/** The repository root. */
export declare const root: string;
/** Every workspace package, in the order of the root `workspaces` list. */
export declare function workspacePackages(): WorkspacePackage[];
/** The workspace packages that are published (not `private`). */
export declare function publicPackages(): WorkspacePackage[];
