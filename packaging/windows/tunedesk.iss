; Inno Setup 6 script: TuneDesk's Windows installer around the PyInstaller one-folder bundle.
; Compiled by packaging\windows\build.ps1:
;   iscc /DAppVersion=0.1.0 /DSourceDir=build\windows\dist\tunedesk /DIconFile=build\windows\tunedesk.ico tunedesk.iss
; Per-user install by default (no administrator prompt); the user may choose all users instead.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\windows\dist\tunedesk"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\windows\tunedesk.ico"
#endif
#define AppName "TuneDesk"
#define AppExe "TuneDesk.exe"

[Setup]
; AppId identifies the app for upgrades and uninstall: never change it.
AppId={{6F1C3B52-8E0A-4C7D-9B1E-2D5A7F3C9E41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=TuneDesk
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0.17763
OutputBaseFilename={#AppName}-{#AppVersion}-setup-x64
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2
SolidCompression=yes
LZMAUseSeparateProcess=yes
WizardStyle=modern
; PLACEHOLDER: signing. Define a sign tool in the IDE or with iscc /S"signtool=signtool.exe sign /f ... $f"
; and uncomment:
; SignTool=signtool
; SignedUninstaller=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole bundle: TuneDesk.exe (window), tunedesk.exe (command line, worker) and _internal\.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the program wrote inside its own folder (Python caches); the user's runs stay in their profile.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
