; Inno Setup 6 script for Runway Desktop: a per-user install (no administrator rights, no UAC
; prompt) into %LOCALAPPDATA%\Programs\Runway Desktop, a Start-menu shortcut and an uninstaller
; (Settings > Apps). The user's history, settings and the API key in Credential Manager are not
; touched by an uninstall.
;
; build/build.py runs it on Windows after PyInstaller:
;   iscc /DAppVersion=<version from pyproject.toml> /DAppNumericVersion=<a.b.c.d>
;        /DBundleDir=<build\dist\runway-desktop> /DOutputDir=<build\dist>
;        /DRepoRoot=<repository> build\windows\installer.iss

#ifndef AppVersion
  #error Pass /DAppVersion=<version> (build/build.py reads it from pyproject.toml)
#endif
; VersionInfoVersion takes digits only: 0.2.0rc1 -> 0.2.0.0
#ifndef AppNumericVersion
  #define AppNumericVersion "0.0.0.0"
#endif
; BundleDir: PyInstaller's onedir output (not Inno's own SourceDir directive)
#ifndef BundleDir
  #define BundleDir "..\dist\runway-desktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#ifndef RepoRoot
  #define RepoRoot "..\.."
#endif
#define AppName "Runway Desktop"
#define AppExe "RunwayDesktop.exe"

[Setup]
; AppId identifies the app for upgrades and the uninstaller: never change it.
AppId={{6B0F2C1E-6A43-4C57-9E0B-52D3A7C4E1F9}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Runway Desktop developers
VersionInfoVersion={#AppNumericVersion}
VersionInfoProductName={#AppName}
; Per-user: Setup never asks for administrator rights; {autopf} is then
; %LOCALAPPDATA%\Programs and {autoprograms} the user's Start menu.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
; 64-bit app (PySide6 wheels are x64): refuse 32-bit Windows, install in 64-bit mode.
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Qt 6 runs on Windows 10 1809 and later.
MinVersion=10.0.17763
WizardStyle=modern
SetupIconFile={#RepoRoot}\resources\icons\runway-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir={#OutputDir}
OutputBaseFilename=RunwayDesktop-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
; An older version still running is closed (and restarted) so its files can be replaced.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: no library of an older Qt may linger beside the new one.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#RepoRoot}\THIRD_PARTY_NOTICES.txt"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Make videos with Runway Gen-4 Turbo"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
