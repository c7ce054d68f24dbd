# Build dist\TuneDesk-<version>-setup-x64.exe on Windows 10/11 x64: the same one-folder bundle as Linux
# (packaging\tunedesk.spec, CPU torch) wrapped by Inno Setup 6 (packaging\windows\tunedesk.iss).
# Written from the tools' documentation; it cannot run on the Linux build machine.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Needs: Python 3.11-3.13 (python.org, "py" launcher), Visual Studio 2022 Build Tools with the C++ workload
# and CMake (llama-cpp-python is compiled here), Inno Setup 6.3+ (iscc.exe), the network for pip.
# Optional: $env:TUNEDESK_BUILD_DIR; $env:WINDOWS_SIGN_CERT for signing (see the placeholder below).
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
$Build = if ($env:TUNEDESK_BUILD_DIR) { $env:TUNEDESK_BUILD_DIR } else { "$Root\build\windows" }
$LlamaVersion = "0.3.36"
New-Item -ItemType Directory -Force -Path $Build, "$Root\dist" | Out-Null

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $Arguments failed with exit code $LASTEXITCODE" }
}

$Version = (& py -3 -c "import tomllib; print(tomllib.load(open(r'$Root\pyproject.toml','rb'))['project']['version'])").Trim()
$Venv = "$Build\venv"
if (-not (Test-Path "$Venv\Scripts\python.exe")) { Invoke-Checked py @("-3", "-m", "venv", $Venv) }
$Py = "$Venv\Scripts\python.exe"
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--upgrade", "pip", "wheel")
# PyPI's Windows torch wheels are CPU-only: the bundle's torch.
Invoke-Checked $Py @("-m", "pip", "install", "-q", "torch")

# llama-cpp-python, portable: llama.cpp's CPU backend once per instruction-set level, as DLLs the running CPU
# picks from at run time (GGML_BACKEND_DL, GGML_CPU_ALL_VARIANTS; see packaging\README.md).
$Wheels = "$Build\wheels-cpu-variants"
if (-not (Get-ChildItem "$Wheels\llama_cpp_python-$LlamaVersion-*.whl" -ErrorAction SilentlyContinue)) {
    $env:CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON " +
        "-DCMAKE_INSTALL_BINDIR=llama_cpp/lib -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF " +
        "-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could return a wheel built for this machine only.
    Invoke-Checked $Py @("-m", "pip", "wheel", "--no-cache-dir", "--no-deps", "--no-binary", "llama-cpp-python", "-w", $Wheels,
        "llama-cpp-python==$LlamaVersion")
}
$Wheel = (Get-ChildItem "$Wheels\llama_cpp_python-$LlamaVersion-*.whl" | Select-Object -First 1).FullName
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", $Wheel)
$LlamaLib = (& $Py -c "import importlib.util as u; print(u.find_spec('llama_cpp').submodule_search_locations[0])").Trim() + "\lib"
if (-not (Test-Path "$LlamaLib\ggml-cpu-x64.dll") -or -not (Test-Path "$LlamaLib\ggml-cpu-haswell.dll")) {
    throw "$Wheel has no runtime-selected CPU backends (ggml-cpu-*.dll); delete it and build again."
}
Invoke-Checked $Py @("-m", "pip", "install", "-q", $Root, "pyinstaller>=6.10,<7", "pyinstaller-hooks-contrib",
    "jinja2", "diskcache", "typing-extensions", "pillow")

$Vendor = "$Build\vendor"
$env:TUNEDESK_VENDOR = $Vendor
Invoke-Checked "$Venv\Scripts\tunedesk.exe" @("setup")
Remove-Item Env:\TUNEDESK_VENDOR

# The icon: a multi-size .ico from the PNGs in resources\icons (Pillow).
$Ico = "$Build\tunedesk.ico"
Invoke-Checked $Py @("-c", "from PIL import Image; Image.open(r'$Root\resources\icons\tunedesk-256.png').save(r'$Ico', sizes=[(16,16),(24,24),(32,32),(48,48),(64,64),(128,128),(256,256)])")

$env:TUNEDESK_BUNDLE_VENDOR = $Vendor
$env:TUNEDESK_VERSION = $Version
$env:TUNEDESK_ICON = $Ico
if (Test-Path "$Build\dist") { Remove-Item -Recurse -Force "$Build\dist" }
Invoke-Checked "$Venv\Scripts\pyinstaller.exe" @("--noconfirm", "--clean", "--log-level", "WARN",
    "--distpath", "$Build\dist", "--workpath", "$Build\work", "$Root\packaging\tunedesk.spec")
if (-not (Test-Path "$Build\dist\tunedesk\TuneDesk.exe")) { throw "PyInstaller did not produce TuneDesk.exe" }

# ---- PLACEHOLDER: code signing of the executables (an Authenticode certificate; e.g. signtool or a cloud
# signing service). Unsigned installers show a SmartScreen warning ("More info > Run anyway").
if ($env:WINDOWS_SIGN_CERT) {
    foreach ($exe in @("$Build\dist\tunedesk\TuneDesk.exe", "$Build\dist\tunedesk\tunedesk.exe")) {
        Invoke-Checked signtool @("sign", "/f", $env:WINDOWS_SIGN_CERT, "/p", $env:WINDOWS_SIGN_PASSWORD,
            "/fd", "SHA256", "/tr", $env:WINDOWS_TIMESTAMP_URL, "/td", "SHA256", $exe)
    }
} else { Write-Host "NOT SIGNED: set WINDOWS_SIGN_CERT (and WINDOWS_SIGN_PASSWORD, WINDOWS_TIMESTAMP_URL)." }
# ------------------------------------------------------------------------------------------------------

$Iscc = if ($env:ISCC) { $env:ISCC } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
Invoke-Checked $Iscc @("/DAppVersion=$Version", "/DSourceDir=$Build\dist\tunedesk", "/DIconFile=$Ico",
    "/O$Root\dist", "$Root\packaging\windows\tunedesk.iss")
# PLACEHOLDER: sign dist\TuneDesk-$Version-setup-x64.exe the same way (or set SignTool in tunedesk.iss).
Write-Host "Built $Root\dist\TuneDesk-$Version-setup-x64.exe"
